from chaosbus.cli import main

main()
