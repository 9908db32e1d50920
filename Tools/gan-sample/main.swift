import Commands
GanSample.main()
