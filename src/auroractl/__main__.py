from auroractl.cli import main

main()
