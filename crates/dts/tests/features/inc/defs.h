#define FEATURE_A 1
#define FEATURE_B
#define BOARD_NAME my-board
#define COMMA_ARG ,
