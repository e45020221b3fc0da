n = int(input())
count = 0
for k in range(2, n + 1):
    if all(k % d for d in range(2, k)):  # quadratic: far too slow for N = 10^6
        count += 1
print(count)
