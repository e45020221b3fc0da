import sys

data = sys.stdin.read().split()
rows, cols = int(data[0]), int(data[1])
grid = data[2 : 2 + rows]
cells = {grid[r][c]: (r, c) for r in range(rows) for c in range(cols)}
(sr, sc), (tr, tc) = cells["S"], cells["T"]
print(abs(sr - tr) + abs(sc - tc))  # ignores the walls
