"""The core: types and helpers every other package may use; it imports none of them."""
