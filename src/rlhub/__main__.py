from rlhub.cli.main import main

main()
