// An empty ICU common-data package for the static release (SPEC §14): it defines the entry
// point libicuuc looks for (icudt<major>_dat) with a table of contents of no items, so ICU's
// 31 MB data archive is not linked. libphonenumber needs no ICU data file: its regular
// expressions use the character properties compiled into libicuuc, and UTF-8 conversion needs
// none. Written for this project from ICU's documented data layout (udata.h: a MappedData
// header, UDataInfo, then a pointer table of contents, format "ToCP").
#include <unicode/udata.h>
#include <unicode/utypes.h>

#include <cstdint>

namespace {

struct PointerTocEntry {
  const char* name;
  const void* data;
};

struct EmptyCommonData {
  std::uint16_t header_size;
  std::uint8_t magic1;
  std::uint8_t magic2;
  UDataInfo info;
  char padding[8];
  std::uint32_t count;
  std::uint32_t reserved;
  PointerTocEntry toc[1];
};

}  // namespace

extern "C" U_EXPORT const EmptyCommonData U_ICUDATA_ENTRY_POINT = {
    32,    // the header's size up to the table of contents' count
    0xda,  // magic numbers of an ICU data header
    0x27,
    {sizeof(UDataInfo),
     0,
#if U_IS_BIG_ENDIAN
     1,
#else
     0,
#endif
     U_CHARSET_FAMILY,
     U_SIZEOF_UCHAR,
     0,
     {0x54, 0x6f, 0x43, 0x50},  // "ToCP": a table of contents made of pointers
     {1, 0, 0, 0},
     {0, 0, 0, 0}},
    {0, 0, 0, 0, 0, 0, 0, 0},
    0,  // no items: every data lookup misses
    0,
    {{nullptr, nullptr}}};
