import math
import sys

data = sys.stdin.read().split()
k = int(data[0])
print("\n".join(f"{math.pi * float(r) ** 2:.10f}" for r in data[1 : 1 + k]))
