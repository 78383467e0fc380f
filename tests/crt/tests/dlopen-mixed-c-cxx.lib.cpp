#include <stdexcept>
#include <vector>
extern "C" int cxx_func() {
  std::vector<int> *v = new std::vector<int>(10, 4);
  int r = 0;
  try { throw std::runtime_error("x"); } catch (std::exception &) { r = 40; }
  r += (*v)[9] / 2;
  delete v;
  return r;
}
