"""Domain-free helpers shared by features."""
