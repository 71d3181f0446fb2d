// san_asan.cc: a C++ program built with g++ -fsanitize=address: containers and strings,
// an exception thrown and caught, then an overflow of a new[] block (argv[1] "overflow")
// or a clean end.
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

int main(int argc, char **argv) {
	setvbuf(stdout, nullptr, _IONBF, 0);
	std::vector<std::string> v;
	for (int i = 0; i < 100; i++)
		v.push_back("item " + std::to_string(i));
	std::map<std::string, int> m;
	for (auto &s : v)
		m[s] = int(s.size());
	try {
		throw std::runtime_error("thrown");
	} catch (const std::exception &e) {
		std::printf("%zu items, %zu keys, caught %s\n", v.size(), m.size(), e.what());
	}
	if (argc > 1 && std::strcmp(argv[1], "overflow") == 0) {
		int *a = new int[4];
		std::printf("writing a[4] of new int[4]\n");
		a[argc + 2] = 1; // argc is 2
		delete[] a;
	}
	return 0;
}
