"""Call recordings: WAV files written by the phone line, read by supervisors."""
