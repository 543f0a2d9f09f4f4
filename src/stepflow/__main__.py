from stepflow.cli.main import main

main()
