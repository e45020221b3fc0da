import math
import sys

data = sys.stdin.read().split()
for r in data[1:]:
    print(f"{math.pi * float(r) ** 2:.8e}")  # other formatting, same value within tolerance
