# pythia_folder_library(NAME DEPS...): one static library per top-level folder, built from every
# *.cpp in that folder except main.cpp. Headers sit beside their sources and are included as
# "folder/file.h" from the repository root.
function(pythia_folder_library name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  list(FILTER srcs EXCLUDE REGEX "/main\\.cpp$")
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARGN})
  pythia_target_flags(${name})
  if(PYTHIA_SANITIZE)
    target_link_options(${name} INTERFACE ${PYTHIA_SANITIZER_FLAGS})
  endif()
endfunction()
