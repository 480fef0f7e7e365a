"""Shifts, rosters, volunteers, the staffing forecast (Erlang C) and surge mode."""
