# Writes a man page for one program from its --help output and that of every subcommand
# (help2man, plus a COMMANDS section with each subcommand's help), gzipped.
#   cmake -DPROGRAM=/path/anshin-admin -DNAME=anshin-admin -DSUMMARY="..." -DVERSION=0.1.0
#         -DHELP2MAN=/usr/bin/help2man -DOUTPUT=/path/anshin-admin.1.gz -P man_page.cmake
cmake_minimum_required(VERSION 3.25)
foreach(v PROGRAM NAME SUMMARY VERSION HELP2MAN OUTPUT)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "man_page.cmake: -D${v}=... is required")
  endif()
endforeach()
get_filename_component(bindir "${PROGRAM}" DIRECTORY)
# Run by name with the build's bin/ first on PATH, so the help shows "anshin-admin", not a path.
set(run ${CMAKE_COMMAND} -E env "PATH=${bindir}:$ENV{PATH}" LIBNFC_AUTO_SCAN=false)

function(help out_var)
  execute_process(COMMAND ${run} ${NAME} ${ARGN} --help
    OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NAME} ${ARGN} --help failed (${rc}): ${err}")
  endif()
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

# The names listed under "Subcommands:" in a CLI11 help text.
function(subcommands text out_var)
  set(names)
  set(in_list FALSE)
  string(REPLACE "\n" ";" lines "${text}")
  foreach(line IN LISTS lines)
    if(line MATCHES "^Subcommands:")
      set(in_list TRUE)
    elseif(in_list AND line MATCHES "^  ([a-z][a-z0-9-]*)")
      list(APPEND names "${CMAKE_MATCH_1}")
    elseif(in_list AND NOT line MATCHES "^ ")
      set(in_list FALSE)
    endif()
  endforeach()
  set(${out_var} "${names}" PARENT_SCOPE)
endfunction()

# roff: backslashes escaped, lines starting with . or ' protected.
function(roff text out_var)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

set(commands "")
function(walk)
  help(text ${ARGN})
  subcommands("${text}" subs)
  if(ARGN)
    roff("${text}" body)
    string(JOIN " " title ${NAME} ${ARGN})
    string(APPEND commands ".SS \"${title}\"\n.nf\n${body}\n.fi\n")
  endif()
  foreach(s IN LISTS subs)
    walk(${ARGN} ${s})
  endforeach()
  set(commands "${commands}" PARENT_SCOPE)
endfunction()
walk()

get_filename_component(outdir "${OUTPUT}" DIRECTORY)
set(include "${outdir}/${NAME}.h2m")
set(roff_page "${outdir}/${NAME}.1")
if(commands)
  file(WRITE "${include}" "[COMMANDS]\n${commands}")
else()
  file(WRITE "${include}" "")
endif()
file(APPEND "${include}" "[FILES]\nSee /usr/share/doc/${NAME}/ (operations.md) and the example configuration there.\n")
execute_process(
  COMMAND ${run} ${HELP2MAN} --no-info --no-discard-stderr --section=1
          "--version-string=${VERSION}" "--name=${SUMMARY}" "--include=${include}"
          "--output=${roff_page}" ${NAME}
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man for ${NAME} failed (${rc}): ${err}")
endif()
execute_process(COMMAND gzip -9nf "${roff_page}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip ${roff_page} failed")
endif()
if(NOT "${roff_page}.gz" STREQUAL "${OUTPUT}")
  file(RENAME "${roff_page}.gz" "${OUTPUT}")
endif()
