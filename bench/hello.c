/* Start-to-exit workload: the smallest useful static program. */
#include <stdio.h>

int main(void)
{
	printf("hello %d\n", 42);
	return 0;
}
