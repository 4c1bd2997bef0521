# Helpers shared by every module's CMakeLists.txt.

# cairn_unit_test(NAME SOURCES a.c b.c LIBS x y [TIMEOUT s] [LABELS l])
# A cmocka test binary registered with CTest (label "unit" so the sanitizer
# build can run only the unit tests).
function(cairn_unit_test name)
	cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
	add_executable(${name} ${T_SOURCES})
	target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
	set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY
		${CMAKE_BINARY_DIR}/tests)
	add_test(NAME ${name} COMMAND ${name})
	if(NOT T_TIMEOUT)
		set(T_TIMEOUT 120)
	endif()
	set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT}
		LABELS "unit;${T_LABELS}")
endfunction()

# cairn_fuzz_target(NAME SOURCES ... LIBS ...): built only with CAIRN_FUZZ=ON (clang).
function(cairn_fuzz_target name)
	cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
	if(NOT CAIRN_FUZZ)
		return()
	endif()
	add_executable(${name} ${T_SOURCES})
	target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
	target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
	target_link_libraries(${name} PRIVATE ${T_LIBS})
	set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY
		${CMAKE_BINARY_DIR}/fuzz)
endfunction()
