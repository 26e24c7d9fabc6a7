"""Pure, deterministic rules: no database, no I/O, no clock of their own. Workflows, activities,
use cases and routers call them; each rule is written here once."""
