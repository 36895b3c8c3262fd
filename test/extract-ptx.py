# Prints the PTX of the N-th object (default 0) of a gpu.binary read from
# stdin; MLIR escapes its bytes as \XX.
import re
import sys

index = int(sys.argv[1]) if len(sys.argv) > 1 else 0
objects = re.findall(r'assembly = "(.*?)"', sys.stdin.read(), re.S)
if len(objects) <= index:
    sys.exit("no PTX object %d in the input" % index)
sys.stdout.write(
    re.sub(r"\\([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), objects[index])
)
