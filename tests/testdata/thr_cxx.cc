// thr_cxx.cc — C++ threads (g++, libstdc++): std::thread, thread_local objects with
// constructors and destructors, std::mutex and std::condition_variable, std::async and
// futures, exceptions thrown and caught inside threads and carried across them.
//
// 1. 8 std::threads each use a thread_local object (constructed on first use in that
//    thread, destroyed when the thread exits) and a thread_local counter; after the joins,
//    8 constructions and 8 destructions have happened and the main thread's copy is intact.
// 2. A producer/consumer queue with std::mutex and std::condition_variable.
// 3. std::async (std::launch::async) returning values and an exception through futures.
// 4. Exceptions thrown and caught within 8 threads at once (the unwinder in each thread).
// 5. std::atomic counters from 8 threads, and std::this_thread::get_id distinct per thread.
// Built with glibc, statically, static-pie and dynamically.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <queue>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static std::atomic<int> constructed{0}, destroyed{0};

struct PerThread {
	std::string name;
	std::vector<int> data;
	PerThread() : name("thread-local"), data(100, 7) { constructed++; }
	~PerThread() { destroyed++; }
};

thread_local PerThread per_thread;
thread_local int tl_counter = 5;

static int failures;

static void check(const char *what, long long got, long long want)
{
	std::printf("%s: %lld (%s)\n", what, got, got == want ? "ok" : "WRONG");
	if (got != want)
		failures++;
}

int main()
{
	// 1.
	{
		tl_counter = 1000;
		std::vector<std::thread> ts;
		std::vector<int> results(8);
		for (int i = 0; i < 8; i++) {
			ts.emplace_back([i, &results] {
				int sum = 0;
				for (int v : per_thread.data)
					sum += v;
				per_thread.data[0] = i;
				for (int k = 0; k < 1000; k++)
					tl_counter++;
				std::this_thread::yield();
				results[i] = sum + tl_counter + (per_thread.data[0] == i ? 0 : 1000000) +
					     (per_thread.name == "thread-local" ? 0 : 1000000);
			});
		}
		for (auto &t : ts)
			t.join();
		long long total = 0;
		for (int r : results)
			total += r;
		check("thread_local results (8 x (700 + 1005))", total, 8 * (700 + 1005));
		check("thread_local objects constructed", constructed.load(), 8);
		check("thread_local objects destroyed at thread exit", destroyed.load(), 8);
		check("main thread's thread_local counter untouched", tl_counter, 1000);
	}

	// 2.
	{
		std::mutex mu;
		std::condition_variable cv;
		std::queue<int> q;
		bool done = false;
		long long consumed = 0;
		std::thread consumer([&] {
			std::unique_lock<std::mutex> lk(mu);
			for (;;) {
				cv.wait(lk, [&] { return !q.empty() || done; });
				while (!q.empty()) {
					consumed += q.front();
					q.pop();
				}
				if (done)
					break;
			}
		});
		std::vector<std::thread> producers;
		for (int p = 0; p < 4; p++) {
			producers.emplace_back([&, p] {
				for (int i = 1; i <= 10000; i++) {
					std::lock_guard<std::mutex> lk(mu);
					q.push(p * 10000 + i);
					cv.notify_one();
				}
			});
		}
		for (auto &t : producers)
			t.join();
		{
			std::lock_guard<std::mutex> lk(mu);
			done = true;
		}
		cv.notify_all();
		consumer.join();
		check("condition_variable queue sum", consumed, 40000LL * 40001 / 2);
	}

	// 3.
	{
		std::vector<std::future<long>> fs;
		for (int i = 1; i <= 6; i++)
			fs.push_back(std::async(std::launch::async, [i] {
				long s = 0;
				for (long k = 1; k <= i * 100000L; k++)
					s += k % 7;
				return s;
			}));
		long long total = 0;
		for (auto &f : fs)
			total += f.get();
		check("std::async results", total, 6299993);
		auto bad = std::async(std::launch::async, []() -> int { throw std::runtime_error("from a thread"); });
		std::string msg;
		try {
			bad.get();
		} catch (const std::runtime_error &e) {
			msg = e.what();
		}
		std::printf("exception through a future: %s\n", msg.c_str());
		if (msg != "from a thread")
			failures++;
	}

	// 4.
	{
		std::atomic<int> caught{0};
		std::vector<std::thread> ts;
		for (int i = 0; i < 8; i++)
			ts.emplace_back([&caught, i] {
				for (int k = 0; k < 500; k++) {
					try {
						if ((k + i) % 2 == 0)
							throw std::out_of_range("even");
						throw k;
					} catch (const std::out_of_range &) {
						caught++;
					} catch (int) {
						caught++;
					}
				}
			});
		for (auto &t : ts)
			t.join();
		check("exceptions caught in 8 threads", caught.load(), 4000);
	}

	// 5.
	{
		std::atomic<long> counter{0};
		std::mutex mu;
		std::set<std::thread::id> ids;
		std::vector<std::thread> ts;
		for (int i = 0; i < 8; i++)
			ts.emplace_back([&] {
				for (int k = 0; k < 100000; k++)
					counter.fetch_add(1, std::memory_order_relaxed);
				std::lock_guard<std::mutex> lk(mu);
				ids.insert(std::this_thread::get_id());
			});
		for (auto &t : ts)
			t.join();
		check("atomic counter (8 x 100000)", counter.load(), 800000);
		check("distinct std::thread::id", (long long)ids.size(), 8);
	}

	std::printf("failures: %d\n", failures);
	return failures != 0;
}
