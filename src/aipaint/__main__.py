from aipaint.cli import main

main()
