from loader.entry import main

raise SystemExit(main())
