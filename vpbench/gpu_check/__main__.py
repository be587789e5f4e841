import sys

from vpbench.gpu_check.check import main

sys.exit(main())
