"""`python -m hotline.cli`: how `hotline run` and `hotline worker` start their children."""

from hotline.cli import main

main()
