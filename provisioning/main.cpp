// anshin-admin: provisioning of an anshin deployment. All logic lives in anshin_admin_lib.
#include <iostream>

#include "provisioning/admin.hpp"

int main(int argc, char** argv) { return anshin::admin::RunCli(argc, argv, std::cout, std::cerr); }
