line = input().strip()
print(line[::-1])  # reverses the letters too, not only the word order
