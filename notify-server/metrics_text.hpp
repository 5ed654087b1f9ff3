// PrometheusText: builds the Prometheus text exposition format (version 0.0.4) that /metrics
// serves, so every part of the server writes HELP/TYPE lines and samples the same way.
// Not thread-safe; build one per scrape.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace anshin::server {

class PrometheusText {
 public:
  explicit PrometheusText(std::string& out) : out_(out) {}

  // "# HELP name help\n# TYPE name type\n"; type is counter, gauge or histogram.
  void Header(std::string_view name, std::string_view help, std::string_view type) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // One sample line; `series` is the metric name with its labels, e.g. name{reason="x"}.
  template <typename Number>
  void Sample(std::string_view series, Number value) {
    static_assert(std::is_arithmetic_v<Number>);
    out_ += series;
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
  }
  template <typename Number>
  void Counter(std::string_view name, std::string_view help, Number value) {
    Header(name, help, "counter");
    Sample(name, value);
  }
  template <typename Number>
  void Gauge(std::string_view name, std::string_view help, Number value) {
    Header(name, help, "gauge");
    Sample(name, value);
  }

 private:
  std::string& out_;
};

}  // namespace anshin::server
