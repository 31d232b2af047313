// `kubes agent`: a node that joins a running kubes server (agent.cc).
#pragma once

#include <string>
#include <vector>

namespace kubes::cmd {

int Agent(const std::vector<std::string>& args);

}  // namespace kubes::cmd
