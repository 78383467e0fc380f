char buffer2[1] = {0};
