/* print_topics.c - prints topic_all (common/topics.c), one name per line, so the
 * deployment test compares the topic job with the topics the code really uses.
 * Built by tests/integration/test_deploy.sh against libcommon.a; not a project binary. */
#include <stdio.h>

#include "topics.h"

int main(void) {
    for (int i = 0; i < topic_all_count; i++)
        printf("%s\n", topic_all[i]);
    return 0;
}
