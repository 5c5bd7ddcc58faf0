"""Runs unittest modules with their test classes, and the methods within each
class, in a seeded random order, so that no test can lean on another having
run first (state a test leaves behind, a server it stopped).

    python3 shuffled_unittest.py pair_test            # random seed, printed
    NEWSGRID_TEST_SEED=1234 python3 shuffled_unittest.py pair_test   # replay

A class's methods stay together: unittest runs setUpClass/tearDownClass
around each contiguous run of one class, and interleaving would start the
class's servers more than once. The seed is printed first, so a failure seen
in CI replays locally in the same order.
"""

import os
import random
import sys
import unittest


def flatten(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from flatten(item)
        else:
            yield item


def shuffled(suite, rng):
    by_class = {}
    for test in flatten(suite):
        by_class.setdefault(type(test), []).append(test)
    groups = list(by_class.values())
    rng.shuffle(groups)
    out = unittest.TestSuite()
    for tests in groups:
        rng.shuffle(tests)
        out.addTests(tests)
    return out


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    seed = int(os.environ.get("NEWSGRID_TEST_SEED") or random.SystemRandom().randrange(1 << 32))
    print(f"test order: seed {seed} (replay with NEWSGRID_TEST_SEED={seed})", file=sys.stderr,
          flush=True)
    suite = unittest.defaultTestLoader.loadTestsFromNames(argv[1:])
    ordered = shuffled(suite, random.Random(seed))
    result = unittest.TextTestRunner(verbosity=2).run(ordered)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
