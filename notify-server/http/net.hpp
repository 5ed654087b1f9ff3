// The one include for Boost.Asio / Beast / OpenSSL in the server's network layer.
//
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>; with g++ 12
// and C++20 that fails to compile unless <utility> comes first. Every file of the network
// layer includes this header before anything else from Asio or Beast.
#pragma once

#include <utility>

#include <string_view>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace anshin::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Beast 1.74 speaks boost::string_view; the rest of anshin speaks std::string_view.
inline std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }
inline beast::string_view ToBeast(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace anshin::server
