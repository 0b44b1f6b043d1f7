"""The tablet sync contract on the server: manifest, changes, push, repair."""
