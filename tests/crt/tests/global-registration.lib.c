char buffer3[1] = {0};
