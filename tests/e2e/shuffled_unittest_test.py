"""The shuffled runner: every test runs once, a class's methods stay
together, and a seed replays its order."""

import unittest

import shuffled_unittest


def load():
    # Made here, not at module level, so the loader of this file does not
    # run them as tests of their own.
    class A(unittest.TestCase):
        def test_1(self): pass
        def test_2(self): pass
        def test_3(self): pass

    class B(unittest.TestCase):
        def test_1(self): pass
        def test_2(self): pass

    loader = unittest.defaultTestLoader
    return unittest.TestSuite([loader.loadTestsFromTestCase(A), loader.loadTestsFromTestCase(B)])


def ids(suite):
    return [t.id() for t in shuffled_unittest.flatten(suite)]


class ShuffledRunnerTest(unittest.TestCase):
    def test_every_test_once_classes_contiguous(self):
        import random
        for seed in range(50):
            got = ids(shuffled_unittest.shuffled(load(), random.Random(seed)))
            self.assertEqual(sorted(got), sorted(ids(load())))
            classes = [i.split(".")[-2] for i in got]
            # Contiguous: the class changes at most once.
            self.assertLessEqual(sum(a != b for a, b in zip(classes, classes[1:])), 1, got)

    def test_seed_replays_and_seeds_differ(self):
        import random
        orders = {tuple(ids(shuffled_unittest.shuffled(load(), random.Random(s)))) for s in range(50)}
        self.assertGreater(len(orders), 10)  # 3! * 2! * 2 = 24 possible
        a = ids(shuffled_unittest.shuffled(load(), random.Random(7)))
        b = ids(shuffled_unittest.shuffled(load(), random.Random(7)))
        self.assertEqual(a, b)


if __name__ == "__main__":
    unittest.main()
