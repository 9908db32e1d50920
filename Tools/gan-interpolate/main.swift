import Commands
GanInterpolate.main()
