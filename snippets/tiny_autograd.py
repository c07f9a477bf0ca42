import math


def as_value(x):
    """Wrap a plain number in a Value (a leaf); leave a Value as it is."""
    return x if isinstance(x, Value) else Value(x)


class Value:
    """A scalar that remembers how it was computed, for reverse-mode differentiation."""

    def __init__(self, data, parents=(), local_grads=(), op=""):
        self.data = float(data)
        self.grad = 0.0                 # d(output)/d(self), filled in by backward()
        self.parents = parents          # the Values this one was computed from
        self.local_grads = local_grads  # d(self)/d(parent), one number per parent
        self.op = op                    # the operation that made it, for display

    def __repr__(self):
        return f"Value(data={self.data:.4f}, grad={self.grad:.4f})"

    # Binary operations. The local derivatives are computed now, in the forward pass.
    def __add__(self, other):
        other = as_value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = as_value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __sub__(self, other):
        other = as_value(other)
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __truediv__(self, other):
        other = as_value(other)
        quotient = self.data / other.data
        return Value(quotient, (self, other), (1.0 / other.data, -quotient / other.data), "/")

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)):
            raise TypeError("only a plain number may be an exponent")
        local = exponent * self.data ** (exponent - 1)
        return Value(self.data**exponent, (self,), (local,), f"**{exponent}")

    # Reflected operations: Python calls these for `2 + v`, `2 * v`, `2 - v` and `2 / v`.
    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return as_value(other) - self

    def __rtruediv__(self, other):
        return as_value(other) / self

    def __neg__(self):
        return self * -1.0

    # Functions of one input.
    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")

    def relu(self):
        positive = self.data > 0
        return Value(self.data if positive else 0.0, (self,), (1.0 if positive else 0.0,), "relu")

    # The backward pass.
    def topological_order(self):
        """Every Value this one depends on, each listed after all the Values it was made from."""
        order, visited = [], set()

        def visit(v):
            if v not in visited:
                visited.add(v)
                for parent in v.parents:
                    visit(parent)
                order.append(v)

        visit(self)
        return order

    def backward(self):
        """Add d(self)/d(v) to v.grad for every leaf v that self depends on; set it for the other Values."""
        order = self.topological_order()
        for v in order:
            if v.parents:
                v.grad = 0.0  # an intermediate Value: drop what an earlier backward() left in it
        # The seed d(self)/d(self) = 1 is added, not stored: after the reset an intermediate self gets
        # exactly 1, and a self that is a leaf adds it up like any other leaf.
        self.grad += 1.0
        for v in reversed(order):
            for parent, local in zip(v.parents, v.local_grads):
                parent.grad += local * v.grad  # chain rule; += because a parent may be used more than once
