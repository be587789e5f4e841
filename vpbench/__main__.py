from vpbench.cli import main

raise SystemExit(main())
