"""The staff console: the live case board every signed-in user lands on."""
