from symbprop.cli.app import main

main()
