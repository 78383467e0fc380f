int YYY[3] = {1, 2, 3};
