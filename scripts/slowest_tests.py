#!/usr/bin/env python3
"""The slowest tests of a cargo-nextest run, from its JUnit file: `slowest_tests.py JUNIT [N]`.
Prints the count of tests run and how many failed, then the N slowest (default 10) with their
seconds."""

import sys
import xml.etree.ElementTree as ET


def main() -> int:
    path = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    root = ET.parse(path).getroot()
    cases = []
    failed = 0
    for case in root.iter("testcase"):
        name = case.get("name", "?")
        binary = case.get("classname", "")
        cases.append((float(case.get("time", "0")), f"{binary} {name}".strip()))
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
    cases.sort(reverse=True)
    print(f"== {len(cases)} tests run, {failed} failed; the {count} slowest:")
    for secs, name in cases[:count]:
        print(f"{secs:8.1f}s  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
