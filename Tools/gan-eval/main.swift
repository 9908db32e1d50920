import Commands
GanEval.main()
