// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * Energy credits of one microgrid. Token id = interval start in unix seconds;
 * one unit = 1 Wh of metered surplus exported in that interval (DESIGN.md).
 *
 * Each interval is committed once: the Merkle roots of its trades, of the
 * signed meter readings behind them and of its credit chunks, the totals and
 * the hash of the engine's rule set. Only the hash of the commitment and the
 * running totals are stored (two slots, so a commitment stays cheap); the full
 * commitment is in the `Committed` event and is passed back with every chunk,
 * where it is checked against the stored hash. A chunk is minted only with a
 * Merkle proof that it belongs to the committed credits root, only once (a
 * bitmap), and never beyond the committed total.
 */
contract EnergyCredits is ERC1155, AccessControl, Pausable {
    bytes32 public constant SETTLER_ROLE = keccak256("SETTLER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    struct Commitment {
        uint64 interval; // interval start, unix seconds = token id
        bytes32 tradesRoot; // Merkle root of the interval's trades
        bytes32 readingsRoot; // Merkle root of the signed readings behind them
        bytes32 creditsRoot; // Merkle root of the credit chunks
        bytes32 ruleSet; // keccak256 of the engine's rule set (canonical JSON)
        uint96 exportWh; // metered export = credits to mint
        uint96 matchedWh; // part of it matched to buyers
        uint32 chunks; // number of credit chunks
    }

    struct IntervalState {
        uint96 totalWh; // committed credits (0 = not committed)
        uint96 mintedWh; // minted so far
        uint32 chunks;
        uint32 chunksMinted;
    }

    mapping(uint256 interval => bytes32) public commitmentHash;
    mapping(uint256 interval => IntervalState) public intervals;
    /// chunk bitmap: bit (chunk % 256) of word (chunk / 256)
    mapping(uint256 interval => mapping(uint256 word => uint256)) private _chunkBits;
    /// retired (claimed) credits per interval and holder
    mapping(uint256 interval => mapping(address holder => uint256)) public retired;

    event Committed(
        uint256 indexed interval,
        bytes32 tradesRoot,
        bytes32 readingsRoot,
        bytes32 creditsRoot,
        bytes32 ruleSet,
        uint96 exportWh,
        uint96 matchedWh,
        uint32 chunks
    );
    event ChunkMinted(uint256 indexed interval, uint32 indexed chunk, uint256 recipients, uint256 wh);
    event Retired(address indexed holder, uint256 indexed interval, uint256 wh, bytes32 claim);

    error AlreadyCommitted(uint256 interval);
    error Conflict(uint256 interval, bytes32 committed, bytes32 offered);
    error NotCommitted(uint256 interval);
    error EmptyCommitment(uint256 interval);
    error ChunkAlreadyMinted(uint256 interval, uint32 chunk);
    error ChunkOutOfRange(uint256 interval, uint32 chunk, uint32 chunks);
    error InvalidChunkProof(uint256 interval, uint32 chunk);
    error OverMint(uint256 interval, uint256 committedWh, uint256 wouldBeWh);
    error ZeroRecipient(uint256 interval, uint32 chunk, uint256 index);

    constructor(address admin, address settler, string memory uri_) ERC1155(uri_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        _grantRole(SETTLER_ROLE, settler);
    }

    /// Commits an interval once. The same commitment again: AlreadyCommitted; another: Conflict.
    function commit(Commitment calldata c) external onlyRole(SETTLER_ROLE) whenNotPaused {
        bytes32 h = keccak256(abi.encode(c));
        bytes32 existing = commitmentHash[c.interval];
        if (existing != bytes32(0)) {
            if (existing == h) revert AlreadyCommitted(c.interval);
            revert Conflict(c.interval, existing, h);
        }
        if (c.exportWh == 0 || c.chunks == 0) revert EmptyCommitment(c.interval);
        commitmentHash[c.interval] = h;
        intervals[c.interval] = IntervalState(c.exportWh, 0, c.chunks, 0);
        emit Committed(c.interval, c.tradesRoot, c.readingsRoot, c.creditsRoot, c.ruleSet, c.exportWh, c.matchedWh, c.chunks);
    }

    /**
     * Mints one chunk of credits. `packed[i]` = amount << 160 | recipient: one
     * word per recipient keeps calldata at 32 bytes each. The chunk leaf is
     * keccak256(abi.encodePacked(interval, chunk, packed)).
     */
    function mintChunk(Commitment calldata c, uint32 chunk, bytes32[] calldata proof, uint256[] calldata packed)
        external
        onlyRole(SETTLER_ROLE)
        whenNotPaused
    {
        uint256 id = c.interval;
        _claimChunk(c, chunk, proof, packed);
        uint256 sum = _mintAll(id, chunk, packed);
        IntervalState storage s = intervals[id];
        uint256 minted = uint256(s.mintedWh) + sum;
        if (minted > s.totalWh) revert OverMint(id, s.totalWh, minted);
        s.mintedWh = uint96(minted);
        s.chunksMinted += 1;
        emit ChunkMinted(id, chunk, packed.length, sum);
    }

    /// Checks the commitment, the chunk's range and proof, and sets its bit (reverts if already set).
    function _claimChunk(Commitment calldata c, uint32 chunk, bytes32[] calldata proof, uint256[] calldata packed) private {
        uint256 id = c.interval;
        bytes32 h = commitmentHash[id];
        if (h == bytes32(0)) revert NotCommitted(id);
        bytes32 offered = keccak256(abi.encode(c));
        if (h != offered) revert Conflict(id, h, offered);
        if (chunk >= c.chunks) revert ChunkOutOfRange(id, chunk, c.chunks);
        uint256 word = chunk >> 8;
        uint256 bit = 1 << (chunk & 255);
        uint256 bits = _chunkBits[id][word];
        if (bits & bit != 0) revert ChunkAlreadyMinted(id, chunk);
        bytes32 leaf = keccak256(abi.encodePacked(c.interval, chunk, packed));
        if (!MerkleProof.verifyCalldata(proof, c.creditsRoot, leaf)) revert InvalidChunkProof(id, chunk);
        _chunkBits[id][word] = bits | bit;
    }

    /// Mints each packed (amount << 160 | recipient) word; returns the sum.
    function _mintAll(uint256 id, uint32 chunk, uint256[] calldata packed) private returns (uint256 sum) {
        uint256[] memory ids = new uint256[](1);
        uint256[] memory values = new uint256[](1);
        ids[0] = id;
        for (uint256 i; i < packed.length; ++i) {
            address to = address(uint160(packed[i]));
            if (to == address(0)) revert ZeroRecipient(id, chunk, i);
            uint256 amount = packed[i] >> 160;
            values[0] = amount;
            sum += amount;
            // _update, not _mint: recipients are participant accounts named by the
            // operator, and the ERC-1155 receiver call (a cold account access each)
            // would cost more than the balance itself. See ARCHITECTURE.md.
            _update(address(0), to, ids, values);
        }
    }

    /// True when `chunk` of `interval` has been minted.
    function chunkMinted(uint256 interval, uint32 chunk) external view returns (bool) {
        return _chunkBits[interval][chunk >> 8] & (1 << (chunk & 255)) != 0;
    }

    /// Burns the caller's credits against its own consumption and records the claim.
    function retire(uint256 interval, uint256 wh, bytes32 claim) external whenNotPaused {
        _burn(msg.sender, interval, wh);
        retired[interval][msg.sender] += wh;
        emit Retired(msg.sender, interval, wh, claim);
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// Transfers and burns stop while paused too.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override whenNotPaused {
        super._update(from, to, ids, values);
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
