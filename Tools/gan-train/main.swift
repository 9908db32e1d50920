import Commands
GanTrain.main()
