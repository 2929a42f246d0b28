// Several nodes on one PostgreSQL database, through the real binary (skipped unless
// COBINAR_TEST_POSTGRES names a PostgreSQL superuser URL; scripts/with-postgres.sh sets it).
#include "tests/e2e/helpers.h"
