import Commands
Gannet.main()
