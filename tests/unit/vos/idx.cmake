# vos-idx unit tests (included by tests/unit/vos/CMakeLists.txt). The index tests build
# the index sources directly, so they do not depend on the durable part of VOS (or on
# bdev/rt) being buildable at every moment.
file(GLOB VOS_IDX_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/vos/idx_*.c)
foreach(t idx_model idx_edge)
	if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${t}_test.c)
		cairn_unit_test(test_vos_${t} SOURCES ${t}_test.c ${VOS_IDX_SRC} TIMEOUT 60
			LABELS vos)
		target_include_directories(test_vos_${t} PRIVATE ${CMAKE_SOURCE_DIR}/src/vos)
	endif()
endforeach()
