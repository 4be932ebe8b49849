from calmline.monitor.cli import main

main()
